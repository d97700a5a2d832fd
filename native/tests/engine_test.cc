// The CPU engine's behaviour beyond parity: argument validation with typed messages, results
// independent of the thread count and of how frames are batched, seeded determinism.
//
//   engine_test <goldens dir>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../engine/engine.h"
#include "../engine/weights.h"
#include "check.h"
#include "golden_inputs.h"
#include "golden_set.h"

using namespace sctdiff;
using sctdiff::testing::check;
using sctdiff::testing::expect_invalid;
using sctdiff::testing::GoldenInputs;
using sctdiff::testing::load_inputs;
using sctdiff::testing::relative_l2;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <goldens dir>\n", argv[0]);
    return 2;
  }
  try {
    sctdiff::testing::GoldenSet goldens(argv[1]);
    auto weights = WeightFile::open(goldens.dir() + "/" + goldens.manifest().at("weights").get<std::string>());
    GoldenInputs in = load_inputs(goldens);
    auto engine = create_cpu_engine(weights, 1);
    const ModelConfig& config = engine->config();
    const int slots = 2 * config.decoder.clip_len;
    const int S = config.encoder.search_size;

    // Validation, one message shape: "Expected ... but received ...".
    expect_invalid([&] { engine->encode({in.frames[2]}, {in.crops[2]}, {0}); },
                   "Expected both templates set before encode but received no templates 0 and 1");
    expect_invalid([&] { engine->set_template(2, in.frames[0], in.crops[0]); }, "Expected a template index of 0 or 1 but received 2");
    expect_invalid([&] { engine->set_template(0, in.frames[0], in.crops[2]); },
                   "Expected an output size of " + std::to_string(config.encoder.template_size) + " for template crop but received " + std::to_string(S));
    engine->set_template(0, in.frames[0], in.crops[0]);
    expect_invalid([&] { engine->encode({in.frames[2]}, {in.crops[2]}, {0}); },
                   "Expected both templates set before encode but received no template 1");
    engine->set_template(1, in.frames[1], in.crops[1]);
    expect_invalid([&] { engine->encode({in.frames[2]}, {in.crops[2]}, {slots}); },
                   "Expected a feature slot in [0, " + std::to_string(slots - 1) + "] but received " + std::to_string(slots));
    expect_invalid([&] { engine->encode({in.frames[2]}, {in.crops[2], in.crops[3]}, {0}); },
                   "Expected as many crops and slots as frames (1) but received 2 crops and 1 slots");
    CropParams empty = in.crops[2];
    empty.side = 0;
    expect_invalid([&] { engine->encode({in.frames[2]}, {empty}, {0}); }, "Expected a positive side for search crop 0 but received 0");

    // Batching: three frames in one call == one call per frame.
    engine->encode({in.frames[2], in.frames[3], in.frames[4]}, {in.crops[2], in.crops[3], in.crops[4]}, {0, 1, 2});
    for (int i = 0; i < 3; ++i) {
      engine->encode({in.frames[static_cast<size_t>(2 + i)]}, {in.crops[static_cast<size_t>(2 + i)]}, {3 + i});
      const double diff = relative_l2(engine->debug_features(i), engine->debug_features(3 + i));
      check(diff < 1e-6, "batched encode == single encode, frame " + std::to_string(i) + ": " + std::to_string(diff));
    }

    const std::vector<int32_t> tokens = {100, 120, 300, 320, 110, 130, 310, 330, 105, 125, 305, 325};
    const std::vector<int32_t> timesteps = {config.diffusion.t_refine, config.diffusion.t_new, config.diffusion.t_new};
    const std::vector<int> window = {0, 1, 2};
    expect_invalid([&] { engine->decode({0, 1, 7}, tokens, timesteps, 1); },
                   "Expected an encoded feature slot but received slot 7 which was never encoded");
    std::vector<int32_t> bad_tokens = tokens;
    bad_tokens[5] = config.tokens.vocab;
    expect_invalid([&] { engine->decode(window, bad_tokens, timesteps, 1); },
                   "Expected a token in [0, " + std::to_string(config.tokens.vocab - 1) + "] but received " + std::to_string(config.tokens.vocab));
    expect_invalid([&] { engine->decode(window, tokens, {0, 1, config.diffusion.T}, 1); },
                   "Expected a timestep in [0, " + std::to_string(config.diffusion.T - 1) + "] but received " + std::to_string(config.diffusion.T));
    expect_invalid([&] { engine->decode(window, {1, 2, 3}, timesteps, 1); }, "Expected 12 prior tokens (4 per frame) but received 3");
    expect_invalid([&] { engine->decode({}, {}, {}, 1); },
                   "Expected between 1 and " + std::to_string(config.decoder.clip_len) + " frames to decode but received 0");

    // Seeded determinism: the same seed gives the same result, another seed other logits.
    const DecodeOutput a = engine->debug_decode(window, tokens, timesteps, 42);
    const DecodeOutput b = engine->debug_decode(window, tokens, timesteps, 42);
    const DecodeOutput c = engine->debug_decode(window, tokens, timesteps, 43);
    check(a.logits == b.logits && a.tokens == b.tokens, "same seed, same decode");
    check(relative_l2(a.logits, c.logits) > 1e-4, "another seed, other logits");

    // Thread count: a 3-thread engine agrees with the 1-thread one.
    auto threaded = create_cpu_engine(weights, 3);
    threaded->set_template(0, in.frames[0], in.crops[0]);
    threaded->set_template(1, in.frames[1], in.crops[1]);
    threaded->encode({in.frames[2], in.frames[3], in.frames[4]}, {in.crops[2], in.crops[3], in.crops[4]}, {0, 1, 2});
    const DecodeOutput t = threaded->debug_decode(window, tokens, timesteps, 42);
    check(relative_l2(t.logits, a.logits) < 1e-6, "3 threads == 1 thread: " + std::to_string(relative_l2(t.logits, a.logits)));
    check(t.tokens == a.tokens, "3 threads == 1 thread: tokens");
  } catch (const std::exception& e) {
    std::printf("FAIL exception: %s\n", e.what());
    return 1;
  }
  std::printf("%s: %d failure(s)\n", testing::failures() == 0 ? "PASS" : "FAIL", testing::failures());
  return testing::failures() == 0 ? 0 : 1;
}
