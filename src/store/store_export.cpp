// `parley store export`: conversations as JSON lines, for an operator's copy, a user's data
// request or a migration.

#include <algorithm>
#include <ostream>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "parley/core/base64.hpp"
#include "parley/protocol/json_writer.hpp"
#include "parley/store/store_tools.hpp"
#include "read_only_open.hpp"

namespace parley::store {

namespace {

struct selected_conversation {
  std::int64_t id;
  std::string a, b;
};

// A message to export: where it is, and where it goes in the output.
struct message_ref {
  std::int64_t order;  // of its conversation in the output
  std::int64_t seq;
  std::int64_t row;
};

class exporter {
 public:
  exporter(const std::string& data_dir, std::ostream& out) : store_(data_dir), out_(out) {}

  export_summary run(const export_filter& filter) {
    select(filter);
    collect();
    write();
    return {static_cast<std::int64_t>(selected_.size()), static_cast<std::int64_t>(refs_.size())};
  }
  [[noreturn]] void fail(const sqlite_error& e) const { store_.fail(e); }

 private:
  // The conversations of filter.id (or only {id, other}), in the order they began.
  void select(const export_filter& filter) {
    std::string x = filter.id, y = filter.other.value_or("");
    if (y < x) std::swap(x, y);  // conversations are stored as a <= b
    statement q(store_.handle(), filter.other
                                     ? "SELECT id, a, b FROM conversations WHERE a = ?1 AND b = ?2"
                                     : "SELECT id, a, b FROM conversations WHERE a = ?1 OR b = ?1 "
                                       "ORDER BY id");
    if (filter.other) {
      q.bind(1, std::string_view(x)).bind(2, std::string_view(y));
    } else {
      q.bind(1, std::string_view(filter.id));
    }
    while (q.step()) {
      order_.emplace(q.integer(0), static_cast<std::int64_t>(selected_.size()));
      selected_.push_back({q.integer(0), std::string(q.text(1)), std::string(q.text(2))});
    }
  }

  // One scan of the messages' small columns (the table has no index on the conversation), then
  // the selected rows in output order.
  void collect() {
    if (selected_.empty()) return;
    statement q(store_.handle(), "SELECT id, conversation, seq FROM messages");
    while (q.step()) {
      auto it = order_.find(q.integer(1));
      if (it != order_.end()) refs_.push_back({it->second, q.integer(2), q.integer(0)});
    }
    std::sort(refs_.begin(), refs_.end(), [](const message_ref& l, const message_ref& r) {
      return std::tie(l.order, l.seq, l.row) < std::tie(r.order, r.seq, r.row);
    });
  }

  void write() {
    statement q(store_.handle(),
                "SELECT seq, from_a, mid, ts, kind, body, name, mime FROM messages WHERE id = ?");
    std::string line;
    for (const message_ref& ref : refs_) {
      q.bind(1, ref.row);
      if (!q.step()) continue;  // not possible in one read transaction; harmless if it were
      const selected_conversation& c = selected_[static_cast<std::size_t>(ref.order)];
      bool from_a = q.integer(1) != 0;
      line.clear();
      {
        protocol::json_writer json(line);
        json.open_array("with").array_item(c.a).array_item(c.b).close_array();
        json.int_field("seq", q.integer(0))
            .string_field("mid", q.text(2))
            .int_field("ts", q.integer(3))
            .string_field("from", from_a ? c.a : c.b)
            .string_field("to", from_a ? c.b : c.a);
        std::string_view body = q.text(5);
        if (q.integer(4) == 0) {
          json.string_field("text", body);
        } else {
          if (!q.is_null(6)) json.string_field("name", q.text(6));
          if (!q.is_null(7)) json.string_field("mime", q.text(7));
          json.int_field("size", static_cast<std::int64_t>(body.size()))
              .string_field("data", core::base64_encode(body));
        }
        json.finish();
      }
      q.reset();
      line.push_back('\n');
      out_.write(line.data(), static_cast<std::streamsize>(line.size()));
      if (!out_) return;  // the reader went away: nothing more to do
    }
    out_.flush();
  }

  read_only_store store_;
  std::ostream& out_;
  std::vector<selected_conversation> selected_;
  std::unordered_map<std::int64_t, std::int64_t> order_;  // conversation id -> output order
  std::vector<message_ref> refs_;
};

}  // namespace

export_summary export_conversations(const std::string& data_dir, const export_filter& filter,
                                    std::ostream& out) {
  exporter e(data_dir, out);
  try {
    return e.run(filter);
  } catch (const sqlite_error& error) {
    e.fail(error);
  }
}

}  // namespace parley::store
