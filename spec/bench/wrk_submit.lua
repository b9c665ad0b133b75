-- luacheck: globals wrk
-- wrk script: POST a DashScope submit (the body's media URL comes from the environment).
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer sk-sim-valid-key-0001"
wrk.headers["X-DashScope-Async"] = "enable"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"paraformer-v2","input":{"file_urls":["' .. os.getenv("BENCH_MEDIA_URL") .. '"]},"parameters":{}}'
