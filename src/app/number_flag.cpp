#include "parley/app/number_flag.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace parley::app {

std::string number_text(double value) {
  constexpr double exact_integers = 9007199254740992.0;  // 2^53: every integer below is exact
  if (std::isfinite(value) && std::floor(value) == value && std::fabs(value) < exact_integers) {
    return std::to_string(static_cast<long long>(value));
  }
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return std::string(text, end);
}

std::string number_refusal(const std::string& input, bool integral, std::string_view min,
                           std::string_view max) {
  char* end = nullptr;
  double value = std::strtod(input.c_str(), &end);
  if (input.empty() || end != input.c_str() + input.size() || std::isnan(value)) {
    return input + " is not a number";
  }
  bool hex = input.find_first_of("xX") != std::string::npos;
  bool fraction_or_exponent = !hex && input.find_first_of(".eE") != std::string::npos;
  if (integral && std::isfinite(value) && (std::floor(value) != value || fraction_or_exponent)) {
    return input + " is not a whole number";
  }
  return input + " is not in [" + std::string(min) + " - " + std::string(max) + "]";
}

}  // namespace parley::app
