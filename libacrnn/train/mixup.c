/* mixup.c: being written in this session. */
