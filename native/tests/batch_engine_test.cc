// One engine serving several streams (native/engine/batch_engine.h): the encode requests and the
// decode requests of three streams, each with its own templates, run as one batch each and give
// the same tokens as three lone engines (features, logits and scores within the bounds printed
// below: a GEMM's rows may be tiled differently when a batch has more of them); windows of
// different lengths in one batch; padding to the CUDA graphs' captured sizes changes nothing;
// per-request checks; releasing a stream.
//
//   batch_engine_test <goldens dir>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../engine/batch_engine.h"
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
using sctdiff::testing::max_abs_diff;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <goldens dir>\n", argv[0]);
    return 2;
  }
  try {
    sctdiff::testing::GoldenSet goldens(argv[1]);
    auto weights = WeightFile::open(goldens.dir() + "/" + goldens.manifest().at("weights").get<std::string>());
    GoldenInputs in = load_inputs(goldens);
    const int kStreams = 3;
    auto group = create_cpu_batch_engine(weights, 2);
    const ModelConfig& config = group->config();

    // Stream s: templates cut from frames 2+s and 3+s, search frames 2+s, 3+s, 4+s (wrapping).
    auto frame_index = [&](int i) { return 2 + i % (static_cast<int>(in.frames.size()) - 2); };
    std::vector<std::unique_ptr<Engine>> lone;
    std::vector<StreamEncode> encodes;
    for (int s = 0; s < kStreams; ++s) {
      const int stream = 10 + s;  // ids are the caller's
      group->set_template(stream, 0, in.frames[static_cast<size_t>(frame_index(s))], in.crops[0]);
      group->set_template(stream, 1, in.frames[static_cast<size_t>(frame_index(s + 1))], in.crops[1]);
      StreamEncode request;
      request.stream = stream;
      for (int i = 0; i < 3; ++i) {
        request.frames.push_back(in.frames[static_cast<size_t>(frame_index(s + i))]);
        request.crops.push_back(in.crops[static_cast<size_t>(frame_index(s + i))]);
        request.slots.push_back(i);
      }
      lone.push_back(create_cpu_engine(weights, 2));
      lone.back()->set_template(0, in.frames[static_cast<size_t>(frame_index(s))], in.crops[0]);
      lone.back()->set_template(1, in.frames[static_cast<size_t>(frame_index(s + 1))], in.crops[1]);
      lone.back()->encode(request.frames, request.crops, request.slots);
      encodes.push_back(request);
    }
    group->encode_batch(encodes);
    double feature_diff = 0.0;
    for (int s = 0; s < kStreams; ++s) {
      for (int slot = 0; slot < 3; ++slot) {
        feature_diff = std::max(feature_diff, max_abs_diff(group->debug_features(10 + s, slot), lone[static_cast<size_t>(s)]->debug_features(slot)));
      }
    }
    check(feature_diff < 1e-4, "batched encode == lone encodes: features max abs diff " + std::to_string(feature_diff));

    // Decodes: streams 10 and 12 with 3-frame windows, stream 11 with 2 frames (two sub-batches).
    std::vector<StreamDecode> decodes;
    for (int s = 0; s < kStreams; ++s) {
      StreamDecode request;
      request.stream = 10 + s;
      request.slots = s == 1 ? std::vector<int>{1, 2} : std::vector<int>{0, 1, 2};
      for (size_t f = 0; f < request.slots.size(); ++f) {
        for (int j = 0; j < 4; ++j) request.tokens.push_back(100 + 40 * s + 10 * static_cast<int>(f) + 50 * j);
        request.timesteps.push_back(f == 0 ? config.diffusion.t_refine : config.diffusion.t_new);
      }
      request.seed = 1000 + static_cast<uint64_t>(s);
      decodes.push_back(request);
    }
    const std::vector<DecodeOutput> batched = group->decode_batch(decodes, true);
    double logit_diff = 0.0, score_diff = 0.0;
    for (int s = 0; s < kStreams; ++s) {
      const StreamDecode& r = decodes[static_cast<size_t>(s)];
      const DecodeOutput alone = lone[static_cast<size_t>(s)]->debug_decode(r.slots, r.tokens, r.timesteps, r.seed);
      check(batched[static_cast<size_t>(s)].tokens == alone.tokens, "batched decode == lone decode: tokens of stream " + std::to_string(s));
      logit_diff = std::max(logit_diff, max_abs_diff(batched[static_cast<size_t>(s)].logits, alone.logits));
      score_diff = std::max(score_diff, max_abs_diff(batched[static_cast<size_t>(s)].scores, alone.scores));
    }
    check(logit_diff < 1e-3, "batched decode == lone decode: logits max abs diff " + std::to_string(logit_diff));
    check(score_diff < 1e-5, "batched decode == lone decode: scores max abs diff " + std::to_string(score_diff));
    std::printf("batched vs lone, max abs diff: features %.3g, logits %.3g, scores %.3g\n", feature_diff, logit_diff, score_diff);

    // Padding to captured sizes (what the CUDA group does with graphs on) changes no result: 9
    // frames encode as 12, three 3-frame windows decode as 4; the padding's results are dropped.
    check(padded_encode_frames(1) == 1 && padded_encode_frames(3) == 3 && padded_encode_frames(4) == 4 &&
              padded_encode_frames(5) == 6 && padded_encode_frames(7) == 8 && padded_encode_frames(9) == 12 &&
              padded_encode_frames(13) == 16 && padded_encode_frames(17) == 24 && padded_encode_frames(48) == 48,
          "encode frame counts pad to the next 2^k or 3*2^k");
    check(padded_decode_windows(1) == 1 && padded_decode_windows(3) == 4 && padded_decode_windows(5) == 8 &&
              padded_decode_windows(9) == 16 && padded_decode_windows(16) == 16,
          "decode window counts pad to the next power of 2");
    {
      BatchEngineOptions pad;
      pad.pad_to_captured_sizes = true;
      auto padded = create_cpu_batch_engine(weights, 2, pad);
      for (int s = 0; s < kStreams; ++s) {
        padded->set_template(10 + s, 0, in.frames[static_cast<size_t>(frame_index(s))], in.crops[0]);
        padded->set_template(10 + s, 1, in.frames[static_cast<size_t>(frame_index(s + 1))], in.crops[1]);
      }
      padded->encode_batch(encodes);
      double padded_feature_diff = 0.0;
      for (int s = 0; s < kStreams; ++s) {
        for (int slot = 0; slot < 3; ++slot) {
          padded_feature_diff = std::max(padded_feature_diff, max_abs_diff(padded->debug_features(10 + s, slot), group->debug_features(10 + s, slot)));
        }
      }
      check(padded_feature_diff < 1e-4, "padded encode == unpadded: features max abs diff " + std::to_string(padded_feature_diff));
      std::vector<StreamDecode> full = decodes;
      full[1].slots = {0, 1, 2};
      full[1].tokens = {120, 170, 220, 270, 130, 180, 230, 280, 140, 190, 240, 290};
      full[1].timesteps = {config.diffusion.t_refine, config.diffusion.t_new, config.diffusion.t_new};
      const std::vector<DecodeOutput> want = group->decode_batch(full, true);
      const std::vector<DecodeOutput> got = padded->decode_batch(full, true);
      check(got.size() == full.size(), "padded decode returns one result per request");
      double padded_logit_diff = 0.0;
      for (size_t s = 0; s < full.size() && s < got.size(); ++s) {
        check(got[s].tokens == want[s].tokens, "padded decode == unpadded: tokens of stream " + std::to_string(s));
        check(got[s].scores.size() == want[s].scores.size(), "padded decode: scores of the request's frames only");
        padded_logit_diff = std::max(padded_logit_diff, max_abs_diff(got[s].logits, want[s].logits));
      }
      check(padded_logit_diff < 1e-3, "padded decode == unpadded: logits max abs diff " + std::to_string(padded_logit_diff));
      std::printf("padded vs unpadded, max abs diff: features %.3g, logits %.3g\n", padded_feature_diff, padded_logit_diff);
    }

    // Each request is checked alone; a stream that never set templates or encoded is refused.
    StreamEncode unknown = encodes[0];
    unknown.stream = 99;
    expect_invalid([&] { group->check_encode(unknown); }, "Expected both templates set before encode but received no templates 0 and 1");
    StreamDecode unencoded = decodes[0];
    unencoded.stream = 99;
    expect_invalid([&] { group->check_decode(unencoded); }, "Expected an encoded feature slot but received slot 0 which was never encoded");
    group->check_decode(decodes[0]);

    // A released stream is gone; the others are untouched.
    group->release_stream(10);
    expect_invalid([&] { group->check_decode(decodes[0]); }, "Expected an encoded feature slot but received slot 0 which was never encoded");
    const std::vector<DecodeOutput> again = group->decode_batch({decodes[2]});
    check(again[0].tokens == batched[2].tokens, "other streams survive a release");
  } catch (const std::exception& e) {
    std::printf("FAIL exception: %s\n", e.what());
    return 1;
  }
  std::printf("%s: %d failure(s)\n", testing::failures() == 0 ? "PASS" : "FAIL", testing::failures());
  return testing::failures() == 0 ? 0 : 1;
}
