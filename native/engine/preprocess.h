// The crop-resize-normalize definition shared by every backend (docs/model.md, "Preprocessing"):
// the square crop [x0, x0 + side)² of the frame, zero outside the image, resized to size² by
// bilinear interpolation with half-pixel centres like OpenCV's INTER_LINEAR on a float image
// (source coordinate (o + 0.5)·side/size − 0.5, clamped to the crop's edge pixels), then
// (v/255 − mean)/std per RGB channel, channels-first. Bit-exact with
// training/sctdiff/preprocess.py: every step is one float32 operation in the same order.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine.h"
#include "noise.h"  // SCTDIFF_HOST_DEVICE

namespace sctdiff {

// One output coordinate's two source taps inside the crop: lo and lo + 1 (clamped), weight of
// the second tap `frac`.
struct ResizeTap {
  int lo = 0;
  int hi = 0;
  float frac = 0.0f;
};

// Float32, one rounding per operation (build with -ffp-contract=off: a fused multiply-add would
// change the last bit): scale = side/size; s = (o + 0.5)·scale − 0.5; s < 0 → (0, 0);
// lo = floor(s), frac = s − lo; lo >= side − 1 → (side − 1, 0); hi = min(lo + 1, side − 1).
SCTDIFF_HOST_DEVICE inline ResizeTap resize_tap(int out_index, int side, int out_size) {
  const float scale = static_cast<float>(side) / static_cast<float>(out_size);
  const float shifted = static_cast<float>(out_index) + 0.5f;
  const float scaled = shifted * scale;
  float src = scaled - 0.5f;
  if (src < 0.0f) src = 0.0f;
  const float lo = floorf(src);
  ResizeTap tap;
  tap.lo = static_cast<int>(lo);
  tap.frac = src - lo;
  if (tap.lo >= side - 1) {
    tap.lo = side - 1;
    tap.frac = 0.0f;
  }
  tap.hi = tap.lo + 1 < side ? tap.lo + 1 : side - 1;
  return tap;
}

SCTDIFF_HOST_DEVICE inline int pixel_channels(PixelFormat format) {
  return format == PixelFormat::kGray ? 1 : format == PixelFormat::kRGBA ? 4 : 3;
}

// Channel `rgb` (0 R, 1 G, 2 B) of crop pixel (cx, cy) as a float in [0, 255]; 0 outside the
// frame. Gray is replicated to all three channels, BGR swapped.
SCTDIFF_HOST_DEVICE inline float crop_pixel(const FrameView& frame, const CropParams& crop, int cx, int cy, int rgb) {
  const int x = crop.x0 + cx, y = crop.y0 + cy;
  if (x < 0 || y < 0 || x >= frame.width || y >= frame.height) return 0.0f;
  const uint8_t* pixel = frame.data + static_cast<int64_t>(y) * frame.stride +
                         static_cast<int64_t>(x) * pixel_channels(frame.format);
  switch (frame.format) {
    case PixelFormat::kGray: return pixel[0];
    case PixelFormat::kBGR: return pixel[2 - rgb];
    default: return pixel[rgb];
  }
}

// The normalized value of output pixel (ox, oy), channel `rgb`.
SCTDIFF_HOST_DEVICE inline float preprocess_pixel(const FrameView& frame, const CropParams& crop, const ResizeTap& tx,
                                                  const ResizeTap& ty, int rgb, float mean, float std) {
  const float p00 = crop_pixel(frame, crop, tx.lo, ty.lo, rgb);
  const float p01 = crop_pixel(frame, crop, tx.hi, ty.lo, rgb);
  const float p10 = crop_pixel(frame, crop, tx.lo, ty.hi, rgb);
  const float p11 = crop_pixel(frame, crop, tx.hi, ty.hi, rgb);
  const float top = (1.0f - tx.frac) * p00 + tx.frac * p01;
  const float bottom = (1.0f - tx.frac) * p10 + tx.frac * p11;
  const float v = (1.0f - ty.frac) * top + ty.frac * bottom;
  return (v / 255.0f - mean) / std;
}

}  // namespace sctdiff
