// Template part of js_convert.h.
#pragma once

#include <exception>
#include <stdexcept>

#include "../engine/errors.h"

namespace sctdiff {

template <typename Body>
bool capture_failure(Body&& body, NativeFailure& failure) {
  try {
    body();
    return true;
  } catch (const ModelLoadError& error) {
    failure = NativeFailure{"ERR_MODEL_LOAD", error.what(), error.file(), error.reason()};
  } catch (const BackendUnavailableError& error) {
    failure = NativeFailure{"ERR_BACKEND_UNAVAILABLE", error.what(), "", ""};
  } catch (const std::invalid_argument& error) {
    failure = NativeFailure{"ERR_INVALID_ARGUMENT", error.what(), "", ""};
  } catch (const std::out_of_range& error) {
    failure = NativeFailure{"ERR_INVALID_ARGUMENT", error.what(), "", ""};
  } catch (const std::bad_alloc&) {
    failure = NativeFailure{"ERR_NATIVE", "The native engine ran out of memory", "", ""};
  } catch (const std::exception& error) {
    failure = NativeFailure{"ERR_NATIVE", error.what(), "", ""};
  } catch (...) {
    failure = NativeFailure{"ERR_NATIVE", "The native engine failed with an unknown exception", "", ""};
  }
  return false;
}

}  // namespace sctdiff
