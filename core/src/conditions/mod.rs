pub mod ua;
