'use client'
import { useConnection } from 'react-lifeline'

export default function Status() {
  const status = useConnection((snapshot) => snapshot.status)
  return <p data-status={status}>Connection: {status}</p>
}
