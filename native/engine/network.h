// The network's forward pass, written once against the Backend interface: an Engine (engine.h)
// that runs preprocessing, the encoder and the decoder on any backend, over weights shared by
// every engine of the same model and memory space (weight_cache.h). Backends only add a factory
// (create_cpu_engine in native/cpu, the CUDA engine in native/cuda).
#pragma once

#include <memory>
#include <string>

#include "backend.h"
#include "engine.h"

namespace sctdiff {

// An Engine over any backend: one stream of a BatchEngine (batch_engine.h), every call a batch of
// one. Takes ownership of the backend. The weights come from
// WeightCache::process() when the backend's weight_placement() is shareable and the file was
// opened from disk; otherwise the engine builds its own. The engine keeps no reference to
// `weights` (the file's mapping is freed when the caller drops it).
std::unique_ptr<Engine> create_backend_engine(std::unique_ptr<Backend> backend,
                                              std::shared_ptr<const WeightFile> weights);

}  // namespace sctdiff
