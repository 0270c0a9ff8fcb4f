//! The checked-in include/flb_plugin.h is exactly what the SDK's sources generate: a change to
//! plugins/sdk/src/abi.rs or c_decls.rs without `make headers` fails here.

#[test]
fn checked_in_header_is_current() {
    let fresh = gen_header::generate().expect("generate the header");
    let path = gen_header::header_path();
    let current = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if current != fresh {
        let (cur, new) = (String::from_utf8_lossy(&current), String::from_utf8_lossy(&fresh));
        let first = cur
            .lines()
            .zip(new.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(cur.lines().count().min(new.lines().count()));
        panic!(
            "include/flb_plugin.h is stale: the SDK's ABI or exported symbols changed (first difference at line {}: \
             checked in {:?}, generated {:?}). Run `make headers` and commit the header.",
            first + 1,
            cur.lines().nth(first).unwrap_or("<end of file>"),
            new.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}
