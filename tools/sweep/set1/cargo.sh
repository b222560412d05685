export PATH=/root/.cargo/bin:$PATH RUSTUP_HOME=/root/.rustup CARGO_HOME=$PWD/.cargo
cargo new -q --vcs none p && cd p && cargo build -q --offline 2>&1 && ./target/debug/p
