#!/bin/bash
echo "TAP version 13"; echo "1..3"; echo "ok 1 a"; exit 0
