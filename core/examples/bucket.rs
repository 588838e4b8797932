//! Prints the percentage bucket (`xxh3_64(uid) % 100`) of each uid given: which deployment a
//! user lands on is then read off the configured weights.
//!
//!     cargo run -p frontend-gray-core --example bucket -- 5f1c… other-uid
fn main() {
    for uid in std::env::args().skip(1) {
        let valid = frontend_gray_core::uid::is_valid(uid.as_bytes());
        println!(
            "{uid}\t{}{}",
            frontend_gray_core::uid::bucket(uid.as_bytes()),
            if valid {
                ""
            } else {
                "\t(invalid uid: replaced by a new one)"
            }
        );
    }
}
