/* attention_cnn.c: being written in this session. */
