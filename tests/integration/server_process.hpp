#pragma once
// Starts the real server binary for a test and stops it again.
//
// The server runs on 127.0.0.1 with `--port 0`; the port is read from its log line
// "listening on http://127.0.0.1:PORT". Its stdout and stderr are captured through a pipe (and
// printed when the test failed). It runs in its own process group and is stopped with SIGTERM,
// then SIGKILL after a bounded wait.
//
// Without a `--store` flag the server gets `--store none` (protocol v1 exactly), whatever the
// binary's default store is; the store tests pass `--store sqlite --data-dir DIR` themselves.
//
// PARLEY_IT_PEER="/path/to/shared/peers/run node-ws" runs the same tests against a reference
// peer instead (a free port is picked and passed as the PORT argument; `--store sqlite` becomes
// node-ws's `--store file`; flags the peer does not know are dropped; tests of Parley-only
// features skip themselves). Off by default.
//
// SIGXFSZ reaches the server ignored (this process ignores it too), so a file-size limit set on
// the server (the store-failure tests) makes its writes fail with EFBIG instead of killing it.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace parley::it {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// True when PARLEY_IT_PEER points the suite at a reference peer instead of Parley.
bool peer_mode();

// Raises the open-file soft limit to the hard limit (1000-connection tests), once per process.
void raise_fd_limit();

// How restart() stops the server: SIGTERM and a wait for its exit, or SIGKILL (a crash).
enum class stop_how { term, kill };

// The Parley binary under test: PARLEY_BINARY from the environment, else the one built here.
std::string parley_binary();

// How a server is started besides its flags.
struct launch_options {
  std::string binary;                // empty: parley_binary()
  std::vector<std::string> wrapper;  // a command that runs it, e.g. {"prlimit", "--nofile=256"}
};

// PARLEY_IT_STORE=postgres (with PARLEY_SERVICES_FILE, tests/services): every server started
// with `--store sqlite --data-dir DIR` gets `--store postgres --postgres-url` a namespace of its
// own per DIR instead (a schema, made on first use: a restart on the same DIR sees the same data).
bool postgres_mode();

// What a command that ran to its end printed, and its exit status (128 + signal when killed).
struct command_result {
  int status = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `argv` (argv[0] looked up in PATH) with stdin from /dev/null and waits for it to end; it
// is killed after `timeout`, and the status is then -1.
command_result run_command(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));

class server_process {
 public:
  // `flags` follow `--host 127.0.0.1 --port 0`; `--threads 2` is added unless given.
  explicit server_process(std::vector<std::string> flags = {}, launch_options launch = {});
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Sends SIGTERM to the server and waits up to `grace` for it to exit. Returns its exit status
  // (128 + signal when killed by a signal), or nullopt if it was still running after `grace`.
  std::optional<int> terminate(std::chrono::milliseconds grace);
  // Waits up to `timeout` for the process to exit; its exit status as for terminate().
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();

  // Stops the server as `how` says and starts it again with the same flags, so on the same
  // --data-dir. The port may change: clients connect anew with port(). A server that does not
  // exit within 10 s of SIGTERM fails the test (and is killed).
  void restart(stop_how how);

  // Everything the server printed so far.
  std::string log() const;
  // Waits up to `timeout` for `text` to appear in the server's output.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout);
  // Print the server's output when it is stopped (done anyway when the current test failed).
  void show_log_on_stop() { show_log_ = true; }

 private:
  void start();
  void read_output();
  void spawn(const std::vector<std::string>& argv);
  void wait_listening(std::chrono::milliseconds timeout);
  void wait_port_open(std::chrono::milliseconds timeout);
  void kill_hard();

  std::vector<std::string> argv_;  // the command line; in peer mode argv_[port_arg_] is the port
  std::size_t port_arg_ = 0;
  std::size_t run_start_ = 0;  // where the current run's output starts in log_
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::uint16_t port_ = 0;
  std::optional<int> exit_status_;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string log_;
  bool eof_ = false;
  bool show_log_ = false;
};

}  // namespace parley::it

// For tests of what only Parley does (static files, healthz, its own flags).
// A test of SQLite's own file (permissions, the data-dir lock, check/export) in postgres_mode.
#define PARLEY_SKIP_ON_POSTGRES(why)                                             \
  do {                                                                           \
    if (::parley::it::postgres_mode()) GTEST_SKIP() << "SQLite only: " << (why); \
  } while (0)

#define PARLEY_SKIP_ON_PEER()                                     \
  do {                                                            \
    if (::parley::it::peer_mode()) GTEST_SKIP() << "Parley only"; \
  } while (0)
