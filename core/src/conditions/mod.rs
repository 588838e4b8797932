pub mod jwt;
pub mod ua;
