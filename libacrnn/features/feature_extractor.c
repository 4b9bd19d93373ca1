/* feature_extractor.c: being written in this session. */
