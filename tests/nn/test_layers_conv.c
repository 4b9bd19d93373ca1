/* test_layers_conv: being written in this session. */
int main(void) { return 77; }
