/* dashscope_result.h - DashScope result files (the JSON a transcription_url points at) -> the
 * normalized Result: SenseVoice tags, sentences -> segments, channel texts. Pure C. */
#ifndef STT_DASHSCOPE_RESULT_H
#define STT_DASHSCOPE_RESULT_H
#include "../provider.h"

/* parse("result") of a 2xx answer whose body parsed to root (a JSON object): the normalized
 * Result with raw = root, or NULL + *err (protocol: no transcripts array; or out of memory).
 * resp.model names the model when known (else it is guessed from the file's shape), resp.task.id
 * becomes task_id. */
stt_json *ds_result(stt_arena *a, stt_json *root, const stt_json *resp, stt_json **err);
#endif
