// Writes small valid weight files (the "nano" config of test/fixtures/weights, every tensor of
// expected_tensors) as the fuzzers' seed corpus, so mutations start from headers that pass
// every check and reach the deep validation paths. Usage: make_seeds <output-dir>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../native/engine/model_spec.h"
#include "../native/engine/weights.h"

namespace {

const char* kNanoConfig =
    R"({"name":"nano","encoder":{"patch":4,"dim":8,"depth":1,"heads":2,"mlp":16,"search_size":16,)"
    R"("template_size":8,"search_factor":4.0,"template_factor":2.0,"ln_eps":1e-6},)"
    R"("decoder":{"dim":16,"blocks":1,"d_state":2,"d_conv":2,"expand":1,"dt_rank":1,"vis_stride":2,)"
    R"("clip_len":2,"rms_eps":1e-5},"tokens":{"bins":4,"range_min":-0.5,"range_max":1.5,"vocab":10,)"
    R"("begin":8,"end":9},"diffusion":{"T":10,"schedule":"cosine","s":0.008,"t_new":9,"t_refine":5},)"
    R"("pixel":{"mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225]}})";

std::vector<uint8_t> make_file(const char* dtype, size_t element_size) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "sct-diff"}, {"format_version", "1"}, {"config", kNanoConfig}};
  const sctdiff::ModelConfig config = sctdiff::parse_model_config(kNanoConfig);
  uint64_t offset = 0;
  for (const auto& spec : sctdiff::expected_tensors(config)) {
    uint64_t count = 1;
    for (int64_t extent : spec.shape) count *= static_cast<uint64_t>(extent);
    header[spec.name] = {{"dtype", dtype}, {"shape", spec.shape}, {"data_offsets", {offset, offset + count * element_size}}};
    offset += count * element_size;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text += ' ';
  std::vector<uint8_t> bytes(8);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  bytes.insert(bytes.end(), text.begin(), text.end());
  for (uint64_t i = 0; i < offset; ++i) bytes.push_back(static_cast<uint8_t>(i * 37 % 251));
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds <output-dir>\n";
    return 2;
  }
  const std::string dir = argv[1];
  const struct { const char* dtype; size_t size; const char* file; } kinds[] = {
      {"F32", 4, "nano_f32.safetensors"}, {"F16", 2, "nano_f16.safetensors"}, {"BF16", 2, "nano_bf16.safetensors"}};
  for (const auto& kind : kinds) {
    const std::vector<uint8_t> bytes = make_file(kind.dtype, kind.size);
    // Check the seed is valid: a seed that fails validation would waste the fuzzer's time.
    sctdiff::WeightFile::from_bytes(bytes, kind.file);
    std::ofstream(dir + "/" + kind.file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                                 static_cast<std::streamsize>(bytes.size()));
  }
  std::cout << "wrote " << (sizeof kinds / sizeof kinds[0]) << " seeds to " << dir << "\n";
  return 0;
}
