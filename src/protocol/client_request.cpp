#include "parley/protocol/client_request.hpp"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <memory>

#include "parley/protocol/client_id.hpp"
#include "parley/protocol/utf8_validator.hpp"
#include "request_fields.hpp"

namespace parley::protocol {

namespace json = boost::json;
using detail::field_collector;
using detail::field_name;
using detail::field_value;
using detail::frame_fields;
using detail::value_kind;

namespace {

request_error bad_request(std::string_view message, optional_cid cid = std::nullopt) {
  return {error_code::bad_request, message, cid};
}

// A string field of at most max_bytes; nullopt when absent, of another kind, or longer.
std::optional<std::string_view> string_field(const frame_fields& fields, field_name name,
                                             std::size_t max_bytes = std::string_view::npos) {
  const field_value& v = fields[name];
  if (v.kind != value_kind::string || v.text.size() > max_bytes) return std::nullopt;
  return v.text;
}

// An optional string field (cid, name, mime): absent, or a string of at most max_bytes. False
// when it is neither.
bool read_optional_string(const frame_fields& fields, field_name name, std::size_t max_bytes,
                          std::optional<std::string_view>& out) {
  if (fields[name].kind == value_kind::absent) return true;
  out = string_field(fields, name, max_bytes);
  return out.has_value();
}

bool read_cid(const frame_fields& fields, optional_cid& cid) {
  return read_optional_string(fields, field_name::cid, max_cid_bytes, cid);
}

// The recipient field `to`: a string no longer than any client id. One with other characters
// is accepted and simply never online, as an unknown id is.
std::optional<std::string_view> recipient(const frame_fields& fields) {
  return string_field(fields, field_name::to, max_client_id_bytes);
}

request parse_msg(const frame_fields& fields, optional_cid cid) {
  auto to = recipient(fields);
  auto text = string_field(fields, field_name::text);
  if (!to || !text)
    return bad_request("msg needs \"to\" (a string of at most 64 bytes) and \"text\" (a string)",
                       cid);
  return msg_request{*to, *text, cid};
}

// The ids are counted before they are checked, and duplicates are dropped (first kept) last.
request parse_watch(const frame_fields& fields, optional_cid cid, std::size_t max_ids) {
  constexpr std::string_view ill_typed =
      "watch needs \"ids\", an array of strings of at most 64 bytes";
  if (fields[field_name::ids].kind != value_kind::array) return bad_request(ill_typed, cid);
  if (fields.id_count > max_ids) return bad_request("watch lists too many ids", cid);
  if (!fields.all_ids) return bad_request(ill_typed, cid);
  watch_request watch{{}, cid};
  watch.ids.reserve(fields.ids.size());
  for (std::string_view id : fields.ids) {
    if (std::find(watch.ids.begin(), watch.ids.end(), id) == watch.ids.end()) {
      watch.ids.push_back(id);
    }
  }
  return watch;
}

// An optional whole-number field: absent, or an integer in [min, max]. False when it is neither.
bool read_optional_integer(const frame_fields& fields, field_name name, std::int64_t min,
                           std::int64_t max, std::optional<std::int64_t>& out) {
  const field_value& v = fields[name];
  if (v.kind == value_kind::absent) return true;
  if (v.kind != value_kind::number || !v.integral) return false;
  if (v.number < static_cast<double>(min) || v.number > static_cast<double>(max)) return false;
  out = static_cast<std::int64_t>(v.number);
  return true;
}

constexpr std::int64_t max_seq = 9007199254740991;  // 2^53 - 1: what a JavaScript client holds

// `with`: the other participant, a valid client id.
std::optional<std::string_view> participant(const frame_fields& fields) {
  auto with = string_field(fields, field_name::with, max_client_id_bytes);
  if (!with || !is_valid_client_id(*with)) return std::nullopt;
  return with;
}

request parse_read(const frame_fields& fields, optional_cid cid) {
  auto with = participant(fields);
  std::optional<std::int64_t> seq;
  if (!with || !read_optional_integer(fields, field_name::seq, 0, max_seq, seq) || !seq) {
    return bad_request("read needs \"with\", a client id, and \"seq\", an integer >= 0", cid);
  }
  return read_request{*with, *seq, cid};
}

request parse_history(const frame_fields& fields, optional_cid cid) {
  constexpr std::string_view usage =
      "history needs \"with\", a client id, at most one of \"before\" and \"after\" (integers "
      ">= 0) and \"limit\" 1 to 200";
  history_request history{{}, {}, {}, default_page_items, cid};
  auto with = participant(fields);
  std::optional<std::int64_t> limit;
  if (!with || !read_optional_integer(fields, field_name::before, 0, max_seq, history.before) ||
      !read_optional_integer(fields, field_name::after, 0, max_seq, history.after) ||
      !read_optional_integer(fields, field_name::limit, 1, max_page_items, limit) ||
      (history.before && history.after)) {
    return bad_request(usage, cid);
  }
  history.with = *with;
  if (limit) history.limit = *limit;
  return history;
}

request parse_conversations(const frame_fields& fields, optional_cid cid) {
  conversations_request conversations{default_page_items, {}, cid};
  std::optional<std::int64_t> limit;
  const field_value& before_ts = fields[field_name::before_ts];
  if (!read_optional_integer(fields, field_name::limit, 1, max_page_items, limit) ||
      (before_ts.kind != value_kind::absent && before_ts.kind != value_kind::number)) {
    return bad_request("conversations takes \"limit\" 1 to 200 and a number \"before_ts\"", cid);
  }
  if (limit) conversations.limit = *limit;
  if (before_ts.kind == value_kind::number) conversations.before_ts = before_ts.number;
  return conversations;
}

request parse_typed(const frame_fields& fields, std::string_view type, optional_cid cid,
                    const request_limits& limits) {
  if (type == "msg") return parse_msg(fields, cid);
  if (type == "who") return who_request{cid};
  if (type == "ping") return ping_request{cid};
  if (type == "watch") return parse_watch(fields, cid, limits.max_watch_ids);
  if (type == "typing") {
    auto to = recipient(fields);
    if (!to) return bad_request("typing needs \"to\" (a string of at most 64 bytes)", cid);
    return typing_request{*to, cid};
  }
  if (limits.store_requests) {
    if (type == "read") return parse_read(fields, cid);
    if (type == "history") return parse_history(fields, cid);
    if (type == "conversations") return parse_conversations(fields, cid);
  }
  return request_error{error_code::unknown_type, "unknown type", cid};
}

}  // namespace

// The SAX parser, kept from frame to frame so its memory is reused. basic_parser is
// instantiated here and nowhere else.
class request_parser::frame_reader {
 public:
  explicit frame_reader(std::size_t max_ids) : parser_(options(), max_ids) {}

  // Reads one JSON text: its fields (valid until the next read), or null with a bad_json error
  // when it is not one JSON object. The same texts fail as with json::parse: the same parser,
  // options and size limits, and nothing but whitespace allowed after the value.
  const frame_fields* read(std::string_view text, request_error& error) {
    parser_.reset();
    parser_.handler().reset(text.size());
    json::error_code ec;
    std::size_t used = parser_.write_some(false, text.data(), text.size(), ec);
    if (ec || used != text.size()) {
      error = {error_code::bad_json, "not valid JSON", std::nullopt};
      return nullptr;
    }
    if (!parser_.handler().fields().is_object) {
      error = {error_code::bad_json, "not a JSON object", std::nullopt};
      return nullptr;
    }
    return &parser_.handler().fields();
  }

 private:
  static json::parse_options options() {
    json::parse_options options;
    options.max_depth = max_json_depth;
    return options;
  }

  json::basic_parser<field_collector> parser_;
};

request_parser::request_parser(request_limits limits)
    : limits_(limits), reader_(std::make_unique<frame_reader>(limits.max_watch_ids)) {}

request_parser::~request_parser() = default;

request request_parser::parse_text(std::string_view frame) {
  request_error error{};
  const frame_fields* fields = reader_->read(frame, error);
  if (!fields) return error;
  optional_cid cid;
  if (!read_cid(*fields, cid)) return bad_request("cid must be a string of at most 64 bytes");
  auto type = string_field(*fields, field_name::type);
  if (!type) return bad_request("missing \"type\" (a string)", cid);
  return parse_typed(*fields, *type, cid, limits_);
}

request request_parser::parse_binary(std::string_view frame) {
  if (frame.size() < 2) return bad_request("binary frame shorter than its 2-byte header length");
  std::size_t header_size =
      (static_cast<unsigned char>(frame[0]) << 8) | static_cast<unsigned char>(frame[1]);
  if (2 + header_size > frame.size()) {
    return bad_request("binary header length past the end of the frame");
  }
  std::string_view header = frame.substr(2, header_size);
  if (!utf8_validator::is_valid(header)) {
    return request_error{error_code::bad_json, "binary header is not UTF-8", std::nullopt};
  }
  request_error error{};
  const frame_fields* fields = reader_->read(header, error);
  if (!fields) return error;
  file_request file{};
  if (!read_cid(*fields, file.cid)) return bad_request("cid must be a string of at most 64 bytes");
  auto to = recipient(*fields);
  if (!to)
    return bad_request("binary header needs \"to\" (a string of at most 64 bytes)", file.cid);
  file.to = *to;
  if (!read_optional_string(*fields, field_name::name, max_file_name_bytes, file.name)) {
    return bad_request("\"name\" must be a string of at most 255 bytes", file.cid);
  }
  if (!read_optional_string(*fields, field_name::mime, max_file_mime_bytes, file.mime)) {
    return bad_request("\"mime\" must be a string of at most 127 bytes", file.cid);
  }
  file.payload = frame.substr(2 + header_size);
  return file;
}

}  // namespace parley::protocol
