/* mean_time.c: being written in this session. */
