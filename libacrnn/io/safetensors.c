/* safetensors.c: being written in this session. */
