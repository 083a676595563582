// A native addon: Adler-32 of a string, written against node-addon-api.
#include <napi.h>

#include <cstdint>
#include <string>

static Napi::Value Adler32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "adler32(string)").ThrowAsJavaScriptException();
    return env.Null();
  }
  std::string s = info[0].As<Napi::String>().Utf8Value();
  uint32_t a = 1, b = 0;
  for (unsigned char c : s) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return Napi::Number::New(env, static_cast<double>((b << 16) | a));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("adler32", Napi::Function::New(env, Adler32));
  return exports;
}

NODE_API_MODULE(checksum, Init)
