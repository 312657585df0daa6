fn main() {
    println!("canaryctl: not yet implemented");
}
