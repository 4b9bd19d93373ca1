/* model_info.c: being written in this session. */
