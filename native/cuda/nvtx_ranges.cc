#include "nvtx_ranges.h"

#include <nvtx3/nvToolsExt.h>

#include <map>
#include <mutex>

namespace sctdiff::cuda {
namespace {

struct Domain {
  nvtxDomainHandle_t handle = nvtxDomainCreateA("sct-diff");
  std::mutex mutex;
  std::map<const char*, nvtxStringHandle_t> names;  // keyed by the phase constant's address

  nvtxStringHandle_t name(const char* text) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = names.find(text);
    if (it != names.end()) return it->second;
    nvtxStringHandle_t registered = nvtxDomainRegisterStringA(handle, text);
    names.emplace(text, registered);
    return registered;
  }
};

Domain& domain() {
  static Domain instance;
  return instance;
}

}  // namespace

void nvtx_push(const char* name) {
  Domain& d = domain();
  nvtxEventAttributes_t attributes = {};
  attributes.version = NVTX_VERSION;
  attributes.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  attributes.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  attributes.message.registered = d.name(name);
  nvtxDomainRangePushEx(d.handle, &attributes);
}

void nvtx_pop() { nvtxDomainRangePop(domain().handle); }

}  // namespace sctdiff::cuda
