//! A lane's name: 1 to 32 of `a-z 0-9 -`, so it is the same word in a header,
//! a counter name and a Kubernetes label.

/// The longest lane name.
pub const MAX_LANE_NAME_LEN: usize = 32;

pub fn is_valid_lane_name(name: &str) -> bool {
    let valid = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
    !name.is_empty() && name.len() <= MAX_LANE_NAME_LEN && name.bytes().all(valid)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn lane_names_are_1_to_32_of_lower_letters_digits_and_dashes() {
        for good in ["gray", "a", "lane-2", "0", "-", &"x".repeat(32)] {
            assert!(is_valid_lane_name(good), "{good:?}");
        }
        let too_long = "x".repeat(33);
        for bad in ["", "Gray", "gray_1", "gray.1", "gray lane", "é", &too_long] {
            assert!(!is_valid_lane_name(bad), "{bad:?}");
        }
    }
}
