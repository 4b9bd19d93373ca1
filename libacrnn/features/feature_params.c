/* feature_params.c: being written in this session. */
