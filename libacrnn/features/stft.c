/* stft.c: being written in this session. */
