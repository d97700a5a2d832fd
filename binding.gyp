{
  # The sct-diff addon: the weight loader, the CPU engine and the N-API binding in one .node.
  # Sources are every .cc file of native/engine, native/cpu and native/binding (listed by the
  # shell at configure time so new engine files need no edit here). CUDA is not linked in:
  # it lives in its own shared library, opened at run time (see DESIGN.md).
  "targets": [
    {
      "target_name": "sct_diff",
      "sources": [
        "<!@(ls -1 native/engine/*.cc native/cpu/*.cc native/binding/*.cc 2>/dev/null)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include/eigen3"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "EIGEN_MPL2_ONLY"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O3", "-ffp-contract=off", "-Wall", "-Wno-unused-parameter"],
      "ldflags": ["-pthread"],
      # dlopen of libsctdiff_cuda.so (native/binding/cuda_library.cc).
      "libraries": ["-ldl"],
      "conditions": [
        # x86-64-v2 (SSE4.2, POPCNT): runs on every x86-64 CPU sold since ~2009, so one
        # prebuilt binary is portable; wider SIMD would need runtime dispatch.
        ["target_arch=='x64'", { "cflags_cc": ["-march=x86-64-v2"] }]
      ]
    }
  ]
}
