/* test_layers_seq: being written in this session. */
int main(void) { return 77; }
