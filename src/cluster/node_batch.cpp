#include "node_batch.hpp"

#include <cstring>

namespace parley::cluster {

namespace {

constexpr std::string_view magic = "PB1";

template <typename T>
bool read_number(std::string_view& rest, T& out) {
  if (rest.size() < sizeof(T)) return false;
  out = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out = static_cast<T>((out << 8) | static_cast<unsigned char>(rest[i]));
  rest.remove_prefix(sizeof(T));
  return true;
}

template <typename Length>
bool read_bytes(std::string_view& rest, std::string_view& out) {
  Length length;
  if (!read_number(rest, length) || rest.size() < length) return false;
  out = rest.substr(0, length);
  rest.remove_prefix(length);
  return true;
}

template <typename T>
void write_number(std::string& to, T value) {
  for (std::size_t i = sizeof(T); i-- > 0;)
    to.push_back(static_cast<char>(value >> (8 * i)));
}

}  // namespace

std::string batch_writer::take() {
  std::string out;
  out.swap(bytes_);
  return out;
}

void batch_writer::start() {
  if (!bytes_.empty()) return;
  bytes_.append(magic);
  put(origin_);
}

// Ids are client ids or node ids, far below 64 KiB.
void batch_writer::put(std::string_view text) {
  write_number(bytes_, static_cast<std::uint16_t>(text.size()));
  bytes_.append(text);
}

void batch_writer::put_long(std::string_view bytes) {
  write_number(bytes_, static_cast<std::uint32_t>(bytes.size()));
  bytes_.append(bytes);
}

void batch_writer::message(core::remote_delivery how, std::string_view from, std::string_view to,
                           const protocol::frame& frame) {
  start();
  bytes_.push_back(static_cast<char>(how == core::remote_delivery::message ? record_kind::message
                                                                           : record_kind::notify));
  put(from);
  put(to);
  bytes_.push_back(static_cast<char>(frame.op()));
  put_long(frame.payload());
}

void batch_writer::presence(std::string_view id, bool online) {
  start();
  bytes_.push_back(static_cast<char>(online ? record_kind::online : record_kind::offline));
  put(id);
}

void batch_writer::ids(record_kind kind, std::span<const std::string_view> ids) {
  start();
  bytes_.push_back(static_cast<char>(kind));
  write_number(bytes_, static_cast<std::uint32_t>(ids.size()));
  for (std::string_view id : ids)
    put(id);
}

void batch_writer::gone() {
  start();
  bytes_.push_back(static_cast<char>(record_kind::gone));
}

bool read_origin(std::string_view& rest, std::string_view& origin) {
  if (!rest.starts_with(magic)) return false;
  rest.remove_prefix(magic.size());
  return read_bytes<std::uint16_t>(rest, origin) && !origin.empty();
}

bool read_record(std::string_view& rest, record& out) {
  std::uint8_t kind;
  if (!read_number(rest, kind)) return false;
  out.kind = static_cast<record_kind>(kind);
  switch (out.kind) {
    case record_kind::message:
    case record_kind::notify: {
      std::uint8_t op;
      if (!read_bytes<std::uint16_t>(rest, out.from) || !read_bytes<std::uint16_t>(rest, out.to) ||
          !read_number(rest, op)) {
        return false;
      }
      out.op = static_cast<protocol::opcode>(op);
      if (out.op != protocol::opcode::text && out.op != protocol::opcode::binary) return false;
      return read_bytes<std::uint32_t>(rest, out.payload);
    }
    case record_kind::online:
    case record_kind::offline:
      return read_bytes<std::uint16_t>(rest, out.to);
    case record_kind::hello:
    case record_kind::state: {
      std::uint32_t count;
      if (!read_number(rest, count) || count > rest.size() / 2) return false;
      out.ids.resize(count);
      for (auto& id : out.ids) {
        if (!read_bytes<std::uint16_t>(rest, id)) return false;
      }
      return true;
    }
    case record_kind::gone:
      return true;
  }
  return false;
}

}  // namespace parley::cluster
