// What a weight file must contain for a given config: the names and shapes of every weight
// of docs/model-contract.md, and the strict parser of the config JSON in the metadata.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config.h"

namespace sctdiff {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};

// Every weight of the network for `config`, encoder first, in a stable order.
std::vector<TensorSpec> expected_tensors(const ModelConfig& config);

// Parses and validates the config JSON. Throws std::invalid_argument("<field>: <reason>"),
// e.g. "encoder.heads: 5 does not divide encoder.dim 192".
ModelConfig parse_model_config(const std::string& json);

// Checks the cross-field rules of a config (positive sizes, heads divides dim, ...). Throws
// std::invalid_argument like parse_model_config.
void validate_model_config(const ModelConfig& config);

}  // namespace sctdiff
