#pragma once
// Helpers of the config-file, reload and log tests: a TOML file in a temporary folder, and the
// binary run with extra environment variables (through env(1), so this process's own
// environment stays as it is).
#include <fstream>
#include <string>
#include <vector>

#include "server_process.hpp"
#include "temp_dir.hpp"

namespace parley::it {

// Writes `text` to `name` in `dir` (replacing it) and returns its path.
inline std::string write_config(const temp_dir& dir, const std::string& name,
                                const std::string& text) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

// `env VAR=VALUE...`: a wrapper for launch_options, or the head of a command.
inline std::vector<std::string> env_command(const std::vector<std::string>& variables) {
  std::vector<std::string> command{"env"};
  command.insert(command.end(), variables.begin(), variables.end());
  return command;
}

// The binary run with `args` and the environment `variables` added ("PARLEY_X=1").
inline command_result parley_run(const std::vector<std::string>& args,
                                 const std::vector<std::string>& variables = {}) {
  std::vector<std::string> command = env_command(variables);
  command.push_back(parley_binary());
  command.insert(command.end(), args.begin(), args.end());
  return run_command(command);
}

inline launch_options with_env(const std::vector<std::string>& variables) {
  launch_options launch;
  launch.wrapper = env_command(variables);
  return launch;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace parley::it
