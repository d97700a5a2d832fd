// The frames and crops of a goldens set (training/make_goldens.py) as engine inputs: one
// FrameView and CropParams per "preprocess" entry, viewing bytes this struct owns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../engine/engine.h"
#include "golden_set.h"

namespace sctdiff::testing {

struct GoldenInputs {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<FrameView> frames;  // per preprocess entry
  std::vector<CropParams> crops;
};

inline GoldenInputs load_inputs(const GoldenSet& goldens) {
  GoldenInputs in;
  const auto& m = goldens.manifest();
  for (const auto& f : m.at("frames")) in.bytes.push_back(goldens.array<uint8_t>(f.at("data")));
  for (const auto& e : m.at("preprocess")) {
    const auto& f = m.at("frames").at(e.at("frame").get<size_t>());
    const std::string format = f.at("format");
    const PixelFormat pf = format == "bgr" ? PixelFormat::kBGR : format == "rgba" ? PixelFormat::kRGBA
                           : format == "gray" ? PixelFormat::kGray : PixelFormat::kRGB;
    in.frames.push_back(FrameView{in.bytes.at(e.at("frame").get<size_t>()).data(), f.at("width"), f.at("height"), f.at("stride"), pf});
    const auto& c = e.at("crop");
    in.crops.push_back(CropParams{c.at("x0"), c.at("y0"), c.at("side"), c.at("outputSize")});
  }
  return in;
}

}  // namespace sctdiff::testing
