/* dashscope_upload.h - DashScope's temporary file storage (a local file becomes an oss:// URL for
 * 48 h), reached through dashscope.c's build/parse for the ops and kinds "upload_policy" and
 * "upload_form". Pure C. */
#ifndef STT_DASHSCOPE_UPLOAD_H
#define STT_DASHSCOPE_UPLOAD_H
#include "../provider.h"

stt_json *stt_dashscope_upload_build(stt_arena *a, const char *op, const stt_json *args, stt_json **err);
stt_json *stt_dashscope_upload_parse(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err);
#endif
