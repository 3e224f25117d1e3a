#include "parley/cluster/cluster_link.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <bit>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <charconv>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "node_batch.hpp"
#include "redis_connection.hpp"

namespace parley::cluster {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::string_view nodes_key = "parley:nodes";          // node id -> last heartbeat (ms)
constexpr std::string_view last_beat_key = "parley:last_beat";  // the last heartbeat of any node
constexpr std::string_view grace_key = "parley:grace_until";    // no node is reaped before it
constexpr std::string_view ids_prefix = "parley:ids:";          // + node id: the node's ids
constexpr std::string_view channel_prefix = "parley:node:";     // + node id: its batches
// Heartbeats go every second, or four times per TTL when the TTL is short: a live node then
// has to miss about three in a row (a loaded machine, a slow Redis) to be taken for dead.
constexpr auto heartbeat_most = 1s;
constexpr int heartbeats_per_ttl = 4;
constexpr auto connect_timeout = 2s;
constexpr auto first_retry = 100ms;
constexpr auto last_retry = 2s;     // retries back off to this, so a returning Redis is seen fast
constexpr auto goodbye_limit = 1s;  // how long a stopping node waits for Redis to take its goodbye
constexpr std::size_t ids_per_command = 1000;

// The heartbeat, atomic in Redis and on Redis's clock (so that nodes' clocks need not agree):
// stamps this node, removes the nodes whose stamp is older than the TTL (and their id sets),
// keeps this node's id set from outliving it, and answers whether this node had been removed
// (or Redis lost its data) and which nodes are alive.
// A gap since anyone's last heartbeat longer than a node may be silent means Redis itself was
// away (paused, restarted, cut off), not that every node died: then no node is reaped for one
// TTL, so that each one can stamp again first.
constexpr std::string_view heartbeat_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale, ttl = tonumber(ARGV[2]), tonumber(ARGV[5])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('SET', KEYS[2], now)
if now - last > stale then redis.call('SET', KEYS[3], now + ttl) end
local added = redis.call('ZADD', KEYS[1], now, ARGV[1])
if now >= tonumber(redis.call('GET', KEYS[3]) or '0') then
  local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - stale)
  for _, node in ipairs(dead) do
    redis.call('ZREM', KEYS[1], node)
    redis.call('DEL', ARGV[3] .. node)
  end
end
redis.call('PEXPIRE', ARGV[3] .. ARGV[1], ARGV[4])
return {added, redis.call('ZRANGE', KEYS[1], 0, -1)}
)lua";

std::string random_tag() {
  std::random_device random;
  char digits[8];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, random(), 16);
  return std::string(digits, end);
}

void check_node_id(std::string_view id) {
  bool printable = !id.empty() && id.size() <= 64;
  for (char c : id)
    printable = printable && c > ' ' && c < 127;
  if (!printable) {
    throw std::invalid_argument("--node-id must be 1 to 64 printable characters without spaces");
  }
}

template <typename Each>
void for_each_node(core::node_set nodes, Each each) {
  while (nodes != 0) {
    unsigned bit = static_cast<unsigned>(std::countr_zero(nodes));
    nodes &= nodes - 1;
    each(bit);
  }
}

std::string_view text_of(const redisReply* r) {
  return {r->str, r->len};
}

}  // namespace

class cluster_link::engine {
 public:
  engine(const cluster_config& config, core::hub& hub)
      : config_(config),
        address_(redis_address::parse(config.redis_url)),
        hub_(hub),
        channel_(std::string(channel_prefix) + config.node_id),
        work_(io_.get_executor()),
        commands_(
            io_, [this] { connection_up(); }, [this](std::string_view why) { down(why); }),
        subscriber_(
            io_, [this] { connection_up(); }, [this](std::string_view why) { down(why); }),
        heartbeat_timer_(io_),
        retry_timer_(io_),
        goodbye_timer_(io_) {
    check_node_id(config.node_id);
    if (config.node_ttl_seconds < 2) throw std::invalid_argument("--node-ttl must be at least 2");
  }

  void start() {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "parley-cluster");
      connect();
      heartbeat_timer_.expires_after(heartbeat_every());
      heartbeat_timer_.async_wait([this](auto ec) { on_heartbeat_timer(ec); });
      io_.run();
    });
  }

  void stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] { say_goodbye(); });
    thread_.join();
  }

  bool reachable() const {
    return stats_.redis_up.load(std::memory_order_relaxed) &&
           pending_bytes_.load(std::memory_order_relaxed) < config_.max_pending_bytes;
  }

  void forward(core::node_set nodes, core::remote_delivery how, std::string_view from,
               std::string_view to, const protocol::shared_frame& frame) {
    std::lock_guard lock(queue_mutex_);
    for_each_node(nodes, [&](unsigned bit) {
      if (!peers_[bit]) return;
      append(*peers_[bit], [&](batch_writer& b) { b.message(how, from, to, *frame); });
      ++peers_[bit]->frames;
    });
    schedule_flush();
  }

  void local_presence(std::string_view id, bool online) {
    std::lock_guard lock(queue_mutex_);
    for (auto& p : peers_) {
      if (p) append(*p, [&](batch_writer& b) { b.presence(id, online); });
    }
    own_id_changes_.emplace_back(std::string(id), online);
    schedule_flush();
  }

  const std::string& node_id() const { return config_.node_id; }
  const cluster_stats& stats() const { return stats_; }

 private:
  // Another node, as this one knows it. Its batch is written under queue_mutex_; the rest is
  // the link thread's.
  struct peer {
    std::string name;
    batch_writer batch;
    std::size_t frames = 0;     // forwarded frames in the batch
    std::uint64_t seen_at = 0;  // heartbeats_sent_ when this node learned of it
  };

  // --- the queue (any thread, under queue_mutex_) ---

  // Every byte queued counts against --cluster-max-pending-bytes until Redis has taken it.
  template <typename Write>
  void append(peer& p, Write write) {
    std::size_t before = p.batch.size();
    write(p.batch);
    pending_bytes_.fetch_add(p.batch.size() - before, std::memory_order_relaxed);
  }

  void schedule_flush() {
    if (flush_posted_) return;
    flush_posted_ = true;
    asio::post(io_, [this] { flush(); });
  }

  // --- the link thread ---

  void connect() {
    commands_.connect(address_, connect_timeout);
    subscriber_.connect(address_, connect_timeout);
  }

  void connection_up() {
    if (subscriber_.up() && !subscribing_) {
      subscribing_ = true;
      subscriber_.subscribe(
          channel_, [this] { subscribed(); }, [this](std::string_view batch) { on_batch(batch); });
    }
    if (commands_.up() && subscribed_) all_up();
  }

  void subscribed() {
    subscribed_ = true;
    if (commands_.up()) all_up();
  }

  void all_up() {
    if (stats_.redis_up.load(std::memory_order_relaxed)) return;
    retry_delay_ = first_retry;
    if (ever_up_) stats_.redis_reconnects.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("cluster: connected to Redis at {}:{} as node {}", address_.host, address_.port,
                 config_.node_id);
    ever_up_ = true;
    down_logged_ = false;
    stats_.redis_up.store(true, std::memory_order_relaxed);
    heartbeats_at_up_ = heartbeats_sent_ + 1;
    // Nodes reconnect to a restarted Redis one by one: none is taken for gone before each has
    // had the TTL to come back.
    keep_members_until_ = steady::now() + ttl();
    announce();
    heartbeat();
  }

  // Lost a connection (or never made it): both are dropped and made again after a back-off.
  void down(std::string_view why) {
    if (stopping_) return;
    bool was_up = stats_.redis_up.exchange(false, std::memory_order_relaxed);
    if (was_up || !down_logged_) {
      spdlog::warn(
          "cluster: Redis at {}:{} unreachable ({}); serving this node's connections, "
          "retrying",
          address_.host, address_.port, why);
      down_logged_ = true;
    }
    subscribing_ = subscribed_ = false;
    if (retry_scheduled_) return;
    retry_scheduled_ = true;
    // Not from here: this may run inside hiredis, which frees the connection after it.
    retry_timer_.expires_after(retry_delay_);
    retry_delay_ = std::min<std::chrono::milliseconds>(retry_delay_ * 2, last_retry);
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      retry_scheduled_ = false;
      if (ec || stopping_) return;
      commands_.close();
      subscriber_.close();
      drop_queued();
      connect();
    });
  }

  // What was queued for other nodes while Redis was unreachable cannot go out: the hello sent
  // when it is back carries this node's state, and forwarded frames are lost (the store keeps
  // messages; see docs/cluster.md).
  void drop_queued() {
    std::lock_guard lock(queue_mutex_);
    for (auto& p : peers_) {
      if (!p || p->batch.empty()) continue;
      pending_bytes_.fetch_sub(p->batch.size(), std::memory_order_relaxed);
      stats_.dropped_out.fetch_add(p->frames, std::memory_order_relaxed);
      p->batch.take();
      p->frames = 0;
    }
    own_id_changes_.clear();
  }

  // This node's ids into Redis again and its state to every node it knows: after (re)connecting
  // or after having been taken for dead.
  void announce() {
    std::vector<std::string> ids;
    hub_.with_local_ids([&](std::span<const std::string_view> local) {
      ids.assign(local.begin(), local.end());
      std::lock_guard lock(queue_mutex_);
      own_id_changes_.clear();  // the snapshot includes them
      for (auto& p : peers_) {
        if (p) append(*p, [&](batch_writer& b) { b.ids(record_kind::hello, local); });
      }
      schedule_flush();
    });
    std::string key = std::string(ids_prefix) + config_.node_id;
    std::string_view del[] = {"DEL", key};
    commands_.command(del, [](const redisReply*) {});
    for (std::size_t at = 0; at < ids.size(); at += ids_per_command) {
      std::vector<std::string_view> words{"SADD", key};
      for (std::size_t i = at; i < std::min(ids.size(), at + ids_per_command); ++i)
        words.push_back(ids[i]);
      commands_.command(words, [](const redisReply*) {});
    }
  }

  void on_heartbeat_timer(const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    if (stats_.redis_up.load(std::memory_order_relaxed)) heartbeat();
    heartbeat_timer_.expires_after(heartbeat_every());
    heartbeat_timer_.async_wait([this](auto ec) { on_heartbeat_timer(ec); });
  }

  void heartbeat() {
    std::uint64_t sequence = ++heartbeats_sent_;
    // A node is reaped once its last stamp is older than the TTL less one heartbeat period: with
    // this node's next check a period later, a dead node is noticed within the TTL.
    auto stale_ms = std::to_string((ttl() - heartbeat_every()).count());
    auto expire_ms = std::to_string((ttl() * 3).count());
    auto ttl_ms = std::to_string(ttl().count());
    std::string_view words[] = {"EVAL",    heartbeat_script, "3",      nodes_key,  last_beat_key,
                                grace_key, config_.node_id,  stale_ms, ids_prefix, expire_ms,
                                ttl_ms};
    commands_.command(words, [this, sequence, sent = steady::now()](const redisReply* r) {
      if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return;
      auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - sent);
      stats_.redis_round_trip_us.store(took.count(), std::memory_order_relaxed);
      const redisReply* names = r->element[1];
      std::vector<std::string_view> alive;
      for (std::size_t i = 0; i < names->elements; ++i)
        alive.push_back(text_of(names->element[i]));
      bool was_removed = r->element[0]->integer == 1 && sequence > heartbeats_at_up_;
      update_members(alive, sequence);
      if (was_removed) announce();
    });
  }

  std::chrono::milliseconds heartbeat_every() const {
    return std::min<std::chrono::milliseconds>(heartbeat_most, ttl() / heartbeats_per_ttl);
  }

  std::chrono::milliseconds ttl() const {
    return std::chrono::milliseconds(static_cast<std::int64_t>(config_.node_ttl_seconds * 1000));
  }

  // The nodes alive according to the heartbeat `sequence`: new ones are greeted, and the ones
  // this node knew before that heartbeat but that are no longer there are gone.
  void update_members(std::span<const std::string_view> alive, std::uint64_t sequence) {
    for (std::string_view name : alive) {
      if (name != config_.node_id) find_or_add_peer(name);
    }
    if (steady::now() < keep_members_until_) return count_nodes();
    for (unsigned bit = 0; bit < core::max_remote_nodes; ++bit) {
      std::string name;
      {
        std::lock_guard lock(queue_mutex_);
        if (!peers_[bit] || peers_[bit]->seen_at >= sequence) continue;
        if (std::find(alive.begin(), alive.end(), peers_[bit]->name) != alive.end()) continue;
        name = peers_[bit]->name;
      }
      spdlog::warn("cluster: node {} is gone (no heartbeat for {} s)", name,
                   config_.node_ttl_seconds);
      forget_peer(bit);
    }
    count_nodes();
  }

  // The bit of node `name`, known from now on (greeted with this node's state when new); none
  // when the cluster already has the most nodes a hub can tell apart.
  std::optional<unsigned> find_or_add_peer(std::string_view name) {
    std::optional<unsigned> free;
    {
      std::lock_guard lock(queue_mutex_);
      if (auto known = bit_of_.find(std::string(name)); known != bit_of_.end()) {
        return known->second;
      }
      for (unsigned bit = 0; bit < core::max_remote_nodes && !free; ++bit) {
        if (!peers_[bit]) free = bit;
      }
      if (!free) {
        if (!full_logged_)
          spdlog::error("cluster: more than {} other nodes; {} is ignored", core::max_remote_nodes,
                        name);
        full_logged_ = true;
        return std::nullopt;
      }
      peers_[*free].emplace(
          peer{std::string(name), batch_writer(config_.node_id), 0, heartbeats_sent_});
      bit_of_.emplace(std::string(name), *free);
    }
    spdlog::info("cluster: node {} joined", name);
    send_state(*free, record_kind::hello);
    count_nodes();
    return free;
  }

  void forget_peer(unsigned bit) {
    {
      std::lock_guard lock(queue_mutex_);
      if (!peers_[bit]) return;
      pending_bytes_.fetch_sub(peers_[bit]->batch.size(), std::memory_order_relaxed);
      bit_of_.erase(peers_[bit]->name);
      peers_[bit].reset();
    }
    hub_.remote_node_gone(core::node_set{1} << bit);
    count_nodes();
  }

  void count_nodes() {
    std::lock_guard lock(queue_mutex_);
    stats_.nodes.store(static_cast<std::uint32_t>(bit_of_.size() + 1), std::memory_order_relaxed);
  }

  // This node's ids, as one record for node `bit`, ordered after every change already queued.
  void send_state(unsigned bit, record_kind kind) {
    hub_.with_local_ids([&](std::span<const std::string_view> ids) {
      std::lock_guard lock(queue_mutex_);
      if (!peers_[bit]) return;
      append(*peers_[bit], [&](batch_writer& b) { b.ids(kind, ids); });
      schedule_flush();
    });
  }

  void on_batch(std::string_view bytes) {
    std::string_view origin;
    std::optional<unsigned> bit;
    bool whole = read_batch(bytes, origin, [&](const record& r) {
      if (!bit) {
        if (origin == config_.node_id) return;
        bit = find_or_add_peer(origin);
        if (!bit) return;
      }
      apply(*bit, r);
    });
    if (!whole) {
      stats_.bad_batches.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("cluster: a batch from node '{}' is malformed ({} bytes); ignored from there",
                    origin, bytes.size());
    }
  }

  void apply(unsigned bit, const record& r) {
    core::node_set node = core::node_set{1} << bit;
    switch (r.kind) {
      case record_kind::message:
      case record_kind::notify:
        stats_.messages_in.fetch_add(1, std::memory_order_relaxed);
        hub_.remote_deliver(r.kind == record_kind::message ? core::remote_delivery::message
                                                           : core::remote_delivery::notify,
                            r.from, r.to, protocol::make_frame_copy(r.op, r.payload));
        return;
      case record_kind::online:
      case record_kind::offline:
        return hub_.remote_presence(node, r.to, r.kind == record_kind::online);
      case record_kind::hello:
        hub_.remote_sync(node, r.ids);
        return send_state(bit, record_kind::state);
      case record_kind::state:
        return hub_.remote_sync(node, r.ids);
      case record_kind::gone:
        spdlog::info("cluster: node {} stopped", peer_name(bit));
        return forget_peer(bit);
    }
  }

  std::string peer_name(unsigned bit) {
    std::lock_guard lock(queue_mutex_);
    return peers_[bit] ? peers_[bit]->name : std::string();
  }

  // One PUBLISH per node with a batch, and this node's id set brought up to date.
  void flush() {
    std::vector<std::pair<std::string, std::string>> batches;  // channel, bytes
    std::vector<std::pair<std::string, bool>> changes;
    std::size_t frames = 0;
    {
      std::lock_guard lock(queue_mutex_);
      flush_posted_ = false;
      for (auto& p : peers_) {
        if (!p || p->batch.empty()) continue;
        batches.emplace_back(std::string(channel_prefix) + p->name, p->batch.take());
        frames += std::exchange(p->frames, 0);
      }
      changes.swap(own_id_changes_);
    }
    if (!stats_.redis_up.load(std::memory_order_relaxed)) {
      for (const auto& [channel, bytes] : batches)
        pending_bytes_.fetch_sub(bytes.size(), std::memory_order_relaxed);
      stats_.dropped_out.fetch_add(frames, std::memory_order_relaxed);
      return;
    }
    update_own_ids(changes);
    stats_.messages_out.fetch_add(frames, std::memory_order_relaxed);
    for (const auto& [channel, bytes] : batches) {
      std::string_view words[] = {"PUBLISH", channel, bytes};
      commands_.command(words, [this, size = bytes.size()](const redisReply*) {
        pending_bytes_.fetch_sub(size, std::memory_order_relaxed);
      });
      stats_.batches_out.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // The id set in Redis follows this node's presence changes; an id's last change wins.
  void update_own_ids(const std::vector<std::pair<std::string, bool>>& changes) {
    if (changes.empty()) return;
    std::unordered_map<std::string_view, bool> last;
    for (const auto& [id, online] : changes)
      last[id] = online;
    std::string key = std::string(ids_prefix) + config_.node_id;
    std::vector<std::string_view> add{"SADD", key}, remove{"SREM", key};
    for (const auto& [id, online] : last)
      (online ? add : remove).push_back(id);
    if (add.size() > 2) commands_.command(add, [](const redisReply*) {});
    if (remove.size() > 2) commands_.command(remove, [](const redisReply*) {});
  }

  // Stopping: every node hears that this one is gone (so its ids go offline at once, not
  // after --node-ttl), its heartbeat and id set leave Redis; then the thread ends.
  void say_goodbye() {
    stopping_ = true;
    heartbeat_timer_.cancel();
    retry_timer_.cancel();
    if (!stats_.redis_up.load(std::memory_order_relaxed)) return io_.stop();
    {
      std::lock_guard lock(queue_mutex_);
      for (auto& p : peers_) {
        if (p) append(*p, [](batch_writer& b) { b.gone(); });
      }
    }
    flush();
    std::string key = std::string(ids_prefix) + config_.node_id;
    std::string_view del[] = {"DEL", key};
    commands_.command(del, [](const redisReply*) {});
    std::string_view zrem[] = {"ZREM", nodes_key, config_.node_id};
    commands_.command(zrem, [this](const redisReply*) { io_.stop(); });
    goodbye_timer_.expires_after(goodbye_limit);
    goodbye_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) io_.stop();
    });
  }

  const cluster_config config_;
  const redis_address address_;
  core::hub& hub_;
  const std::string channel_;
  cluster_stats stats_;

  std::mutex queue_mutex_;
  std::array<std::optional<peer>, core::max_remote_nodes> peers_;  // by bit
  std::unordered_map<std::string, unsigned> bit_of_;
  std::vector<std::pair<std::string, bool>> own_id_changes_;  // for this node's id set
  bool flush_posted_ = false;
  std::atomic<std::size_t> pending_bytes_{0};

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  redis_connection commands_;    // commands and PUBLISH
  redis_connection subscriber_;  // this node's channel
  asio::steady_timer heartbeat_timer_;
  asio::steady_timer retry_timer_;
  asio::steady_timer goodbye_timer_;
  std::chrono::milliseconds retry_delay_ = first_retry;
  std::uint64_t heartbeats_sent_ = 0;
  // The first heartbeat after connecting, which finds this node absent as a matter of course.
  std::uint64_t heartbeats_at_up_ = 0;
  steady::time_point keep_members_until_;
  bool subscribing_ = false;
  bool subscribed_ = false;
  bool ever_up_ = false;
  bool down_logged_ = false;
  bool full_logged_ = false;
  bool retry_scheduled_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

cluster_link::cluster_link(const cluster_config& config, core::hub& hub)
    : engine_(std::make_unique<engine>(config, hub)) {
  hub.attach(*this, random_tag());
  engine_->start();
}

cluster_link::~cluster_link() {
  engine_->stop();
}

bool cluster_link::reachable() const {
  return engine_->reachable();
}

void cluster_link::forward(core::node_set nodes, core::remote_delivery how, std::string_view from,
                           std::string_view to, const protocol::shared_frame& frame) {
  engine_->forward(nodes, how, from, to, frame);
}

void cluster_link::local_presence(std::string_view id, bool online) {
  engine_->local_presence(id, online);
}

const std::string& cluster_link::node_id() const {
  return engine_->node_id();
}
const cluster_stats& cluster_link::stats() const {
  return engine_->stats();
}

}  // namespace parley::cluster
