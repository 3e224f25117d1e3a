#include "server_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

extern char** environ;

namespace parley::it {

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;)
    words.push_back(w);
  return words;
}

bool has_flag(const std::vector<std::string>& flags, const std::string& name) {
  for (const auto& f : flags)
    if (f == name) return true;
  return false;
}

// The flags node-ws (the reference peer) understands; the others are dropped in peer mode.
bool peer_knows(const std::string& flag) {
  static const char* known[] = {
      "--ping-interval",    "--ping-timeout",      "--max-text-bytes",      "--max-binary-bytes",
      "--max-outbox-bytes", "--outbox-soft-bytes", "--outbox-soft-seconds", "--store",
      "--data-dir",         "--inbox-push-max",    "--max-inbox-messages",  "--dedup-seconds"};
  for (const char* k : known)
    if (flag == k) return true;
  return false;
}

// The flags given to the peer: those it knows, with Parley's `--store sqlite` as node-ws's
// `--store file` (its durable single-node store).
std::vector<std::string> peer_flags(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 1 < flags.size(); i += 2) {
    if (!peer_knows(flags[i])) continue;
    out.push_back(flags[i]);
    out.push_back(flags[i] == "--store" && flags[i + 1] == "sqlite" ? "file" : flags[i + 1]);
  }
  return out;
}

// Once per process: SIGXFSZ ignored here, so the servers started from here inherit it ignored.
void ignore_sigxfsz() {
  static const bool done = [] {
    ::signal(SIGXFSZ, SIG_IGN);
    return true;
  }();
  (void)done;
}

std::uint16_t pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot pick a free port");
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_open(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The schema name of a data dir: "it_" and a hash of its absolute path.
std::string schema_for(const std::string& data_dir) {
  std::string path = std::filesystem::absolute(data_dir).lexically_normal().string();
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : path)
    h = (h ^ c) * 1099511628211ull;
  char name[32];
  std::snprintf(name, sizeof name, "it_%016llx", static_cast<unsigned long long>(h));
  return name;
}

// postgres_mode's mapping of `--store sqlite --data-dir DIR` (see server_process.hpp).
void map_to_postgres(std::vector<std::string>& flags) {
  std::string data_dir = "data";
  bool sqlite = false;
  for (std::size_t i = 0; i + 1 < flags.size(); ++i) {
    if (flags[i] == "--store" && flags[i + 1] == "sqlite") sqlite = true;
    if (flags[i] == "--data-dir") data_dir = flags[i + 1];
  }
  if (!sqlite) return;
  const char* services = env("PARLEY_SERVICES_FILE");
  if (!services) throw std::runtime_error("PARLEY_IT_STORE=postgres needs PARLEY_SERVICES_FILE");
  auto made = run_command({"/usr/bin/python3", PARLEY_SOURCE_DIR "/tests/services/services.py",
                           "db", services, schema_for(data_dir)},
                          std::chrono::seconds(30));
  if (made.status != 0) throw std::runtime_error("services.py db failed: " + made.err);
  std::string url = made.out.substr(0, made.out.find('\n'));
  std::vector<std::string> mapped;
  for (std::size_t i = 0; i < flags.size(); ++i) {
    if (flags[i] == "--data-dir" && i + 1 < flags.size()) {
      ++i;
    } else if (flags[i] == "--store" && i + 1 < flags.size()) {
      mapped.insert(mapped.end(), {"--store", "postgres", "--postgres-url", url});
      ++i;
    } else {
      mapped.push_back(flags[i]);
    }
  }
  flags = std::move(mapped);
}

}  // namespace

bool postgres_mode() {
  const char* store = env("PARLEY_IT_STORE");
  return store && std::string_view(store) == "postgres";
}

bool peer_mode() {
  return env("PARLEY_IT_PEER") != nullptr;
}

void raise_fd_limit() {
  static const bool done = [] {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
      r.rlim_cur = r.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &r);
    }
    return true;
  }();
  (void)done;
}

std::string parley_binary() {
  const char* binary = env("PARLEY_BINARY");
#ifdef PARLEY_BINARY
  if (!binary) binary = PARLEY_BINARY;
#endif
  if (!binary) throw std::runtime_error("no server binary (PARLEY_BINARY)");
  return binary;
}

command_result run_command(const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  command_result result;
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  // Both pipes read to EOF (or the deadline) with poll, so a full one cannot block the other.
  auto deadline = steady::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  while (open > 0 && steady::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (::poll(fds, 2, static_cast<int>(left.count()) + 1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (steady::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return result;  // status -1: it did not end in time
    }
    std::this_thread::sleep_for(5ms);
  }
  result.status = decode_status(status);
  return result;
}

server_process::server_process(std::vector<std::string> flags, launch_options launch) {
  raise_fd_limit();
  ignore_sigxfsz();
  if (!has_flag(flags, "--store")) {
    flags.push_back("--store");
    flags.push_back("none");
  }
  if (postgres_mode()) map_to_postgres(flags);
  if (const char* peer = env("PARLEY_IT_PEER")) {
    argv_ = split_words(peer);
    port_arg_ = argv_.size();
    argv_.push_back("0");  // set by start()
    auto known = peer_flags(flags);
    argv_.insert(argv_.end(), known.begin(), known.end());
  } else {
    argv_ = launch.wrapper;
    argv_.push_back(launch.binary.empty() ? parley_binary() : launch.binary);
    argv_.insert(argv_.end(), {"--host", "127.0.0.1", "--port", "0"});
    if (!has_flag(flags, "--threads")) {
      argv_.push_back("--threads");
      argv_.push_back("2");
    }
    argv_.insert(argv_.end(), flags.begin(), flags.end());
  }
  start();
}

void server_process::start() {
  if (peer_mode()) {
    port_ = pick_free_port();
    argv_[port_arg_] = std::to_string(port_);
    spawn(argv_);
    wait_port_open(60s);  // the first run may install the peer's packages
    return;
  }
  spawn(argv_);
  // A ThreadSanitizer build starts slower; the wait is bounded all the same.
  wait_listening(20s);
}

void server_process::restart(stop_how how) {
  const char* what = how == stop_how::term ? "SIGTERM" : "SIGKILL";
  if (how == stop_how::term && running()) {
    ::kill(pid_, SIGTERM);
    if (!wait_exit(10s)) ADD_FAILURE() << "server still running 10 s after SIGTERM";
  }
  kill_hard();  // SIGKILL when still running; joins the output reader
  {
    std::lock_guard lock(mutex_);
    log_ += std::string("---- restart after ") + what + " ----\n";
    run_start_ = log_.size();
    eof_ = false;
  }
  exit_status_.reset();
  pid_ = -1;
  start();
}

void server_process::spawn(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group (so a stop reaches a wrapper's child too), default signal handling.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGXFSZ);  // stays ignored (see ignore_sigxfsz)
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int rc = ::posix_spawnp(&pid_, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    pid_ = -1;
    throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  out_fd_ = fds[0];
  reader_ = std::thread([this] { read_output(); });
}

void server_process::read_output() {
  const bool echo = env("PARLEY_IT_VERBOSE") != nullptr;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (echo) std::fwrite(buf, 1, static_cast<std::size_t>(n), stderr);
    std::lock_guard lock(mutex_);
    log_.append(buf, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
  std::lock_guard lock(mutex_);
  eof_ = true;
  changed_.notify_all();
}

void server_process::wait_listening(std::chrono::milliseconds timeout) {
  static const std::regex line(R"(listening on https?://127\.0\.0\.1:([0-9]+))");
  std::unique_lock lock(mutex_);
  std::smatch m;
  bool found = changed_.wait_for(lock, timeout, [&] {
    return std::regex_search(log_.cbegin() + static_cast<std::ptrdiff_t>(run_start_), log_.cend(),
                             m, line) ||
           eof_;
  });
  if (found && !m.empty()) {
    port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    return;
  }
  std::string seen = log_.substr(run_start_);
  lock.unlock();
  kill_hard();
  throw std::runtime_error("server did not log 'listening on http://127.0.0.1:PORT' within " +
                           std::to_string(timeout.count()) + " ms; its output:\n" + seen);
}

void server_process::wait_port_open(std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  while (steady::now() < deadline) {
    if (port_open(port_)) return;
    if (!running()) break;
    std::this_thread::sleep_for(50ms);
  }
  std::string seen = log();
  kill_hard();
  throw std::runtime_error("peer did not open its port; its output:\n" + seen);
}

bool server_process::running() {
  if (exit_status_ || pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = decode_status(status);
    return false;
  }
  return r == 0;
}

std::optional<int> server_process::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  while (running()) {
    if (steady::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  return exit_status_;
}

std::optional<int> server_process::terminate(std::chrono::milliseconds grace) {
  if (running()) ::kill(pid_, SIGTERM);
  return wait_exit(grace);
}

void server_process::kill_hard() {
  if (running()) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    wait_exit(5s);
  }
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
}

server_process::~server_process() {
  if (running()) {
    ::kill(pid_, SIGTERM);
    if (peer_mode()) ::kill(-pid_, SIGTERM);
    wait_exit(5s);
  }
  kill_hard();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  bool failed =
      ::testing::Test::HasFailure() || (info && info->result() && info->result()->Failed());
  if (failed || show_log_ || env("PARLEY_IT_SHOW_LOG")) {
    std::lock_guard lock(mutex_);
    constexpr std::size_t tail = 6000;
    std::fprintf(stderr, "---- server output (last %zu bytes) ----\n%s\n---- end ----\n", tail,
                 log_.size() > tail ? log_.substr(log_.size() - tail).c_str() : log_.c_str());
  }
}

std::string server_process::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

bool server_process::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return log_.find(text) != std::string::npos || eof_;
  }) && log_.find(text) != std::string::npos;
}

}  // namespace parley::it
