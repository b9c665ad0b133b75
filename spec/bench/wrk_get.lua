-- luacheck: globals wrk
-- wrk script: GET with the DashScope key (polls; result files ignore it).
wrk.headers["Authorization"] = "Bearer sk-sim-valid-key-0001"
