// The group scheduler's batch choice (native/binding/batch_picker.h): a lone request is a batch of
// one; queued requests of the front's kind from other streams join it, at most max_batch, one per
// stream; a stream's later requests never overtake its earlier ones; nothing passes a barrier.
//
//   batch_picker_test
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "../binding/batch_picker.h"
#include "check.h"

using namespace sctdiff;
using sctdiff::testing::check;

namespace {

struct Request {
  Request(int stream, RequestKind kind, int id) : stream_(stream), kind_(kind), id(id) {}
  int stream() const { return stream_; }
  RequestKind kind() const { return kind_; }
  int stream_;
  RequestKind kind_;
  int id;
};

using Queue = std::deque<std::unique_ptr<Request>>;

void push(Queue& queue, int stream, RequestKind kind) {
  const int id = static_cast<int>(queue.size());
  queue.push_back(std::make_unique<Request>(stream, kind, id));
}

// Ids of the next batch, e.g. "0 2 3".
std::string next(Queue& queue, size_t max_batch = 16) {
  std::string ids;
  for (const auto& request : take_batch(queue, max_batch)) ids += (ids.empty() ? "" : " ") + std::to_string(request->id);
  return ids;
}

void expect(const std::string& actual, const std::string& expected, const std::string& what) {
  check(actual == expected, what + ": got \"" + actual + "\", expected \"" + expected + "\"");
}

}  // namespace

int main() {
  const auto E = RequestKind::kEncode, D = RequestKind::kDecode, A = RequestKind::kAlone, B = RequestKind::kBarrier;
  {
    Queue q;
    push(q, 1, E);
    expect(next(q), "0", "a lone request runs alone");
    expect(next(q), "", "empty queue");
  }
  {
    Queue q;  // 0:E1 1:D1 2:E2 3:D2 4:E3
    push(q, 1, E), push(q, 1, D), push(q, 2, E), push(q, 2, D), push(q, 3, E);
    expect(next(q), "0 2 4", "encodes of distinct streams together");
    expect(next(q), "1 3", "then the decodes");
  }
  {
    Queue q;  // 0:D1 1:A2 2:D2 3:D3 4:D1
    push(q, 1, D), push(q, 2, A), push(q, 2, D), push(q, 3, D), push(q, 1, D);
    expect(next(q), "0 3", "stream 2's decode waits behind its set_template; stream 1's second decode waits");
    expect(next(q), "1", "the set_template alone");
    expect(next(q), "2 4", "then the rest");
  }
  {
    Queue q;  // 0:E1 1:E2 2:barrier 3:E3
    push(q, 1, E), push(q, 2, E), push(q, -1, B), push(q, 3, E);
    expect(next(q), "0 1", "nothing passes a barrier");
    expect(next(q), "2", "the barrier alone");
    expect(next(q), "3", "after the barrier");
  }
  {
    Queue r;
    for (int s = 0; s < 20; ++s) push(r, s, D);
    std::vector<size_t> sizes;
    while (!r.empty()) sizes.push_back(take_batch(r, 16).size());
    check(sizes == std::vector<size_t>({16, 4}), "at most 16 per batch");
  }
  std::printf("%s: %d failure(s)\n", testing::failures() == 0 ? "PASS" : "FAIL", testing::failures());
  return testing::failures() == 0 ? 0 : 1;
}
