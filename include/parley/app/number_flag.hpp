#pragma once
#include <CLI/CLI.hpp>
#include <concepts>
#include <string>
#include <string_view>

namespace parley::app {

// A number as --help and error messages show it: integers as integers, also when the setting
// is a double (33554432, not 3.35544e+07); other values in the shortest exact form (0.01).
std::string number_text(double value);
inline std::string number_text(std::integral auto value) {
  return std::to_string(value);
}

// Why `input` is no value of a numeric flag within [min, max]: "abc is not a number",
// "2.5 is not a whole number" (an integer flag, written with a fraction or an exponent), "2000 is
// not in [0 - 1024]".
std::string number_refusal(const std::string& input, bool integral, std::string_view min,
                           std::string_view max);

// A CLI11 check that a flag's value is a number of type T (the field's own type, so that what
// passes also converts) within [min, max]; its message says which of the three it is not, where
// CLI::Range says "not in range" for "abc" too. NaN is refused.
template <typename T>
CLI::Validator in_range(T min, T max) {
  std::string min_text = number_text(min), max_text = number_text(max);
  std::string description =
      std::string(CLI::detail::type_name<T>()) + " in [" + min_text + " - " + max_text + "]";
  return CLI::Validator(
      [min, max, min_text, max_text](std::string& input) -> std::string {
        T value{};
        if (CLI::detail::lexical_cast(input, value) && value >= min && value <= max) return {};
        return number_refusal(input, std::is_integral_v<T>, min_text, max_text);
      },
      description);
}

}  // namespace parley::app
