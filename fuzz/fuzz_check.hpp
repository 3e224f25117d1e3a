#pragma once
// FUZZ_CHECK(cond): a property every fuzz target asserts; a failure prints the condition and
// aborts, which libFuzzer reports as a finding (and keeps the input). Active in every build,
// unlike assert().
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                         \
  do {                                                                           \
    if (!(cond)) {                                                               \
      __builtin_printf("check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                              \
    }                                                                            \
  } while (0)
