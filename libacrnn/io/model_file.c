/* model_file.c: being written in this session. */
