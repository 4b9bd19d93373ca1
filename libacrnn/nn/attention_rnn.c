/* attention_rnn.c: being written in this session. */
