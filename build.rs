// sqlx::migrate! (replay --verify's scratch database) embeds the SQLite
// migrations at compile time; rebuild when one is added.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
