--- stt.journal: the file store (lua/stt/store/file.lua) and the record helpers every store
-- shares (lua/stt/store/records.lua), under the name tools have used since the first release.
local records = require "stt.store.records"
local file = require "stt.store.file"

return {
  open = file.open,
  Journal = file.Journal,
  key = records.key,
  job = records.job,
  copy = records.copy,
  TERMINAL = records.TERMINAL,
}
