/* time_pitch.c: being written in this session. */
