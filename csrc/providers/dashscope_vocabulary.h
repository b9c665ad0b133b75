/* dashscope_vocabulary.h - the DashScope custom-vocabulary (热词) API schema, reached through
 * dashscope.c's build/parse for ops and kinds that start with "vocabulary_". Pure C. */
#ifndef STT_DASHSCOPE_VOCABULARY_H
#define STT_DASHSCOPE_VOCABULARY_H
#include "../provider.h"

stt_json *stt_dashscope_vocabulary_build(stt_arena *a, const char *op, const stt_json *args, stt_json **err);
stt_json *stt_dashscope_vocabulary_parse(stt_arena *a, const char *kind, const stt_json *resp, stt_json **err);
#endif
