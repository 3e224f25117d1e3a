#pragma once
#include <CLI/App.hpp>
#include <iosfwd>
#include <string>

namespace parley::app {

// `parley store check` and `parley store export --with ID [--and OTHER]`: the operator's
// commands over the SQLite store's file (store/store_tools.hpp), read-only, safe beside a
// running server. Exit statuses: 0 done (check: no problem found); 1 a problem found, or no
// store to read; 2 bad usage (an id that is no client id among them), at parsing.
struct store_command {
  std::string with;
  std::string and_id;  // empty: every conversation of `with`

  // Adds `store` and its two subcommands to `cli`; their --data-dir fills `data_dir` (the
  // server's, so that it may also come before `store`). Returns `store`: true once parsed if
  // given.
  CLI::App* register_on(CLI::App& cli, std::string& data_dir);
  // Runs the subcommand given: reports and JSON lines on `out`, failures on `err`. Returns the
  // exit status.
  int run(const std::string& data_dir, std::ostream& out, std::ostream& err) const;

 private:
  CLI::App* check_ = nullptr;
  CLI::App* export_ = nullptr;
};

}  // namespace parley::app
