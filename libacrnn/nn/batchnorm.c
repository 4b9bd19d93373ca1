/* batchnorm.c: being written in this session. */
