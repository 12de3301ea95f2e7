//! Gives the shared library its SONAME (`libidaas.so.<major>`), so that programs linked against one
//! release keep working with later compatible releases installed beside it.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libidaas.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
