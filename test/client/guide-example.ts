/**
 * The deployment guide's §7.3 Java example (ZKClusterTest), in TypeScript: the body of
 * `guideExample` is the example of docs/client.md, line for line, with console.log
 * passed in so a test can read what it prints.
 */
import { CreateMode, Ids, ZooKeeper } from '../../src/client/index.js';

export async function guideExample(connectString: string, log: (line: string) => void = console.log): Promise<void> {
  // 会话超时时间（毫秒）
  const sessionTimeoutMs = 10000;

  // 创建ZooKeeper连接；connect() 在会话建立后才返回，不需要 Thread.sleep
  const zk = await ZooKeeper.connect(connectString, {
    sessionTimeoutMs,
    watcher: (event) => log('连接状态变化: ' + event.state),
  });

  // 测试基本操作
  await zk.create('/ts-test', 'TypeScript客户端测试数据', { acl: Ids.OPEN_ACL_UNSAFE, mode: CreateMode.PERSISTENT });

  const { data } = await zk.getData('/ts-test');
  log('读取到的数据: ' + data.toString());

  // 关闭连接
  await zk.close();
}
