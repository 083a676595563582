{
  "targets": [
    {
      "target_name": "checksum",
      "sources": ["src/checksum.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"]
    }
  ]
}
