export PATH=/root/.cargo/bin:$PATH RUSTUP_HOME=/root/.rustup
printf 'use std::thread; fn main(){ let h: Vec<_> = (0..4).map(|i| thread::spawn(move || i*i)).collect(); println!("{}", h.into_iter().map(|h| h.join().unwrap()).sum::<i32>()); }' > m.rs && rustc -O m.rs -o m 2>&1 && ./m
